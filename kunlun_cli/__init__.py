"""The `kunlun-nlp` command: the one place that composes kunlun_nlp, api and training."""
