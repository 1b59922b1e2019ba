# Render was created by the `ads` app (migrations ads.0001-0004). This takes it over in Django's model state
# only: the table keeps its name (ads_render) and its rows, and its foreign key still points at
# ads_template, now catalog.Template's table. ads.0005 then removes it from the `ads` app's state.

import uuid

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

import adstudio.renders.models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('ads', '0004_render_notes'),
        ('catalog', '0001_initial'),
    ]

    state_operations = [
        migrations.CreateModel(
            name='Render',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('public_id', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                ('share_token', models.CharField(default=adstudio.renders.models.new_share_token, editable=False, max_length=64, unique=True)),
                ('owner_session', models.CharField(blank=True, db_index=True, max_length=64)),
                ('name', models.CharField(blank=True, max_length=80)),
                ('fields', models.JSONField(blank=True, default=dict, help_text="The dialogue placeholders' values.")),
                ('selfie', models.FileField(blank=True, upload_to='selfies/')),
                ('consent_at', models.DateTimeField(blank=True, null=True)),
                ('consent_version', models.CharField(blank=True, help_text='The consent text the fan agreed to.', max_length=20)),
                ('ip_hash', models.CharField(blank=True, help_text="HMAC-SHA256 of the fan's IP with SECRET_KEY; never the IP itself.", max_length=64)),
                ('taken_down_at', models.DateTimeField(blank=True, help_text='Hidden by an admin; files deleted.', null=True)),
                ('state', models.CharField(choices=[('queued', 'Queued'), ('running', 'Running'), ('done', 'Done'), ('failed', 'Failed'), ('cancelled', 'Cancelled')], db_index=True, default='queued', max_length=10)),
                ('stage', models.CharField(default='queued', max_length=20)),
                ('progress', models.FloatField(default=0)),
                ('message', models.CharField(default='Waiting for a free studio', max_length=300)),
                ('error', models.TextField(blank=True)),
                ('error_code', models.CharField(blank=True, help_text="The engine's reason, or 'internal'.", max_length=40)),
                ('notes', models.JSONField(blank=True, default=list, help_text='How the engine made it: per dialogue slot, the voice and what moved the lips.')),
                ('worker', models.CharField(blank=True, max_length=100)),
                ('attempts', models.PositiveIntegerField(default=0)),
                ('video', models.FileField(blank=True, upload_to='renders/')),
                ('poster', models.FileField(blank=True, upload_to='renders/')),
                ('views', models.PositiveIntegerField(default=0)),
                ('created_at', models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                ('started_at', models.DateTimeField(blank=True, null=True)),
                ('heartbeat_at', models.DateTimeField(blank=True, null=True)),
                ('finished_at', models.DateTimeField(blank=True, null=True)),
                ('template', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='renders', to='catalog.template')),
            ],
            options={
                'ordering': ['-created_at'],
                'db_table': 'ads_render',
            },
        ),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=state_operations, database_operations=[]),
    ]
