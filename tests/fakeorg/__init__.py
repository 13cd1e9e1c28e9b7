"""A fake Salesforce org for the contract tests: records in memory behind
``responses``, answering what the Salesforce backend sends."""
