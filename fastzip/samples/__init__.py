"""Samples as bytes: the serializers (``serialize``) and the packed pool every engine reads (``pool``)."""
