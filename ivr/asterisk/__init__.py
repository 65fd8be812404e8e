"""Asterisk driver, protocol side: the AMI wire format, the FastAGI session and the
dialogue that turns flow actions into AGI commands. No Redis and no routing here; the
orchestration that ties these to the router lives in `onecall.asterisk`."""
