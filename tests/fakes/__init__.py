"""Stand-ins for a real Asterisk that speak its wire protocols over real TCP sockets.

- `ami_server.FakeAsterisk`: an AMI server (login, actions, events, restarts, drops).
- `agi_channel.FakeAgiChannel`: a call's channel that connects to a FastAGI server and
  answers AGI commands the way res_agi.c does.

Their byte formats follow the captures of a real Asterisk 22.10.1 in
`../shared/protocol/ami/asterisk22-local/` and the derived notes beside them.
"""
