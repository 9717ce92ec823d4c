"""Media: RTP/RTCP (RFC 3550), G.711, RFC 4733 DTMF, SDP offer/answer, RTP sessions, the 20 ms media clock, playback."""
