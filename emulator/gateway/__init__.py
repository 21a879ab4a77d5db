"""The IngoPay gateway: verify, process, debit, risk and biller search."""
