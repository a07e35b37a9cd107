"""Training, export and evaluation of ditserve's MMDiT models (runs on the GPU machine)."""
