"""Reading recorded results: results files, gap rows and tables, attribution of the gap to policies.

Layering: this package is experiments' one public surface for results; paper/ and notebooks/ import
these names from here and nothing else from experiments/ (scripts/check_layers.py enforces it).
"""
from vibetensor.experiments.analysis.attribution import attribute, format_attribution, probe_figures
from vibetensor.experiments.analysis.gap_table import (
    failed_cells, format_table, gap_rows, loss_parity, provenance_mix, ratio_ci)
from vibetensor.experiments.analysis.records import append, read

__all__ = ["append", "attribute", "failed_cells", "format_attribution", "format_table", "gap_rows", "loss_parity",
           "probe_figures", "provenance_mix", "ratio_ci", "read"]
