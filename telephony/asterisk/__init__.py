"""The Asterisk driver: the AMI wire format and connection, the FastAGI session, dialogue
and scripts, the AMI event table, channel state in Redis, the ringer, the hold watcher and
the driver process that owns the AMI connection."""
