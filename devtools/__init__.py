"""Development stand-ins shared by `onecall call` and the tests: a Twilio REST API that
speaks Twilio's wire protocol on a local socket, and a citizen's call simulator."""
