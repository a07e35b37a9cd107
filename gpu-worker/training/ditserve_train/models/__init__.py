"""The three components of an SD3-style pipeline: VAE, text encoder and MMDiT."""
