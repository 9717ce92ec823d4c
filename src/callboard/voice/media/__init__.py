"""Media wire types and codecs: RTP/RTCP (RFC 3550), G.711, RFC 4733 DTMF, SDP offer/answer (RFC 3264)."""
