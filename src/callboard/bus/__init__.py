"""The event bus: in-process now; Redis between nodes later."""
