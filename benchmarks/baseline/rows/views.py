"""POST /readings/: validate a small JSON body, insert one row, return it (201)."""

from rest_framework import generics

from .serializers import ReadingSerializer


class ReadingCreateView(generics.CreateAPIView):
    serializer_class = ReadingSerializer
