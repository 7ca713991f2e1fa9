"""Recording a run: daily aggregates, the ledger, the results store."""
