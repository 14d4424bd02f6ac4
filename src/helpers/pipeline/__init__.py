"""The pipeline: parameters, the report batch, kernels, execution, rendering, publishing and the index.
Imports every layer below it; only ``helpers.cli`` imports it."""
