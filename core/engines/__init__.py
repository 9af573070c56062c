"""Interface engines as sources: Mirth Connect and its open forks (Open Integration Engine,
BridgeLink), read through their REST API. `xstream` reads the API's XML, `client` speaks
to it, `mapping` turns a channel's messages into rows and queue items, `poll` follows each
channel from a stored cursor, and `loopback` is an engine on this machine for the tests and
the demo that answers in the same shapes."""
