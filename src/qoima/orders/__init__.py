"""Orders: lifecycle, four-eyes approvals and quorum by size; pure, no I/O."""
