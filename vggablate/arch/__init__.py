"""What a net is: the cfg grammar, the registry, rewrites, the module, analytic counts."""
