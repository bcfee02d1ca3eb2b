"""The pure core: values and rules every layer shares — records and field types, canonical JSON,
scopes, the signed log, tree views and write values, SSHSIG, documents. Imports nothing but
itself and ``gitdocket.errors``: no I/O, no clock."""
