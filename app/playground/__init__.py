"""The optimizer playground's core: 2-D loss surfaces, the optimizers racing on them, contours."""
