"""Synthetic city generator (``pingan sample``): export files as the source systems deliver
them, and the planted group-rental truth for evaluation. See :mod:`simulator.generator`."""

from simulator.generator import SampleSummary, generate

__all__ = ["SampleSummary", "generate"]
