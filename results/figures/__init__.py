"""Figures (PNG, matplotlib Agg): a run's, the transfer phase's and across tasks, on one shared style."""
