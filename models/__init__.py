"""The shipped model versions, one folder each; a package so that an installed kunlun-nlp carries
them (as `kunlun_nlp.shipped_models`, see pyproject.toml)."""
