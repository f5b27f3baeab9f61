"""Report documents: what a run says, as plain data; renderers (HTML, PDF, CSV) live in adapters."""
