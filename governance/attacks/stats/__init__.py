"""Statistics of attack scores: ROC, TPR at low FPR, advantage, epsilon estimates."""
