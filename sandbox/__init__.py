"""The Viewer API sandbox: a stateful stand-in of the Avara Viewer API served under /sandbox/."""
