"""Documents that leave the ledger: the transcript and the renewal certificate as PDF,
rendered by WeasyPrint from HTML templates, each with the ledger position and hash it was
made from, a verification URL and its QR code."""
