"""Voice plane: SIP signalling, RTP media and call control; imports only `callboard.core`."""
