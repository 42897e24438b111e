"""The VGG paper's claims as experiments: budgets, verdicts, convergence and stability."""
