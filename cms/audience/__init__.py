"""Audience per content: plays recorded from the display client's heartbeats, and the
impressions, dwell and attributes of the tracks that were there while each play ran."""
