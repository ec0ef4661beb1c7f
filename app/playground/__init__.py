"""The optimizer playground: optimizers racing on 2-D loss surfaces, and the plot of it."""
