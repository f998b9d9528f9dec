"""A tabular VAE trained with DP-SGD (Opacus sampler, noise and accountant)."""
