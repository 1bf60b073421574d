"""The Viewer API sandbox: a stateful stand-in of the Avara Viewer API served under /sandbox/.

Section numbers (§) in this package refer to the wire contract, `docs/viewer-api.md`.
"""
