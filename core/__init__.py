"""The NumPy core of the playground: layers, loss, network, datasets, config and the training loop.

Pure NumPy: nothing here knows about HTTP. Import the pieces from their modules
(`core.network`, `core.config`, `core.training`, ...).
"""
