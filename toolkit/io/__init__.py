"""Users' files, read and checked one way wherever toolkit meets them: in training data and in what `predict` is given."""
