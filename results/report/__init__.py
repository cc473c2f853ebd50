"""What a person reads: report.md (run, transfer, cross-task summary), the console tables, and writing every
output file of a run."""
