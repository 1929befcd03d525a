"""Training and evaluation recipes; they use kunlun_nlp, never the reverse."""
