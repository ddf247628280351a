"""PercepNet training pipeline: network, data, loss, model-file export.

The file formats and the network layout are the contract of docs/FORMATS.md.
"""
