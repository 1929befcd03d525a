"""Search, split the way Aleph does it: request parsing (request.py), query building (in each
index backend) and result shaping (results.py)."""
