from rest_framework import serializers

from .models import Reading


class ReadingSerializer(serializers.ModelSerializer):
    class Meta:
        model = Reading
        fields = ["id", "name", "value", "note", "created_at"]
        read_only_fields = ["id", "created_at"]
