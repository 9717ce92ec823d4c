"""Call control: legs with an async API (answer, play, gather, hold, bridge, record, hang up) over SIP and RTP."""
