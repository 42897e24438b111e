"""Short-run training: recipes, the CPU fast paths, the trainer and evaluation."""
