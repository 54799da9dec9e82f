"""Missions: themed hashtag challenges with entries, winners and reward points."""
