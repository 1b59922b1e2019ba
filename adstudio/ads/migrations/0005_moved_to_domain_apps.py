# The `ads` app's models now live in catalog, renders and trust (their 0001 migrations took them over in
# the model state, keeping the tables). Here they leave the `ads` state; nothing changes in the tables.
# Their content types are relabelled, so permissions granted on them and the admin's history stay attached.

from django.db import migrations

MOVED = {
    'template': 'catalog', 'dialogueslot': 'catalog', 'contexttable': 'catalog', 'phraserecording': 'catalog',
    'render': 'renders', 'sensitiveterm': 'trust',
}


def relabel(apps, schema_editor, forward=True):
    content_type = apps.get_model('contenttypes', 'ContentType')
    rows = content_type.objects.db_manager(schema_editor.connection.alias)
    for model, app in MOVED.items():
        old, new = ('ads', app) if forward else (app, 'ads')
        if rows.filter(app_label=new, model=model).exists():
            continue  # already there (post_migrate made it): leave the old row as a stale one
        rows.filter(app_label=old, model=model).update(app_label=new)


def relabel_back(apps, schema_editor):
    relabel(apps, schema_editor, forward=False)


class Migration(migrations.Migration):

    dependencies = [
        ('ads', '0004_render_notes'),
        ('catalog', '0001_initial'),
        ('renders', '0001_initial'),
        ('trust', '0001_initial'),
        ('contenttypes', '0002_remove_content_type_name'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name='Render'),
                migrations.DeleteModel(name='DialogueSlot'),
                migrations.DeleteModel(name='ContextTable'),
                migrations.DeleteModel(name='PhraseRecording'),
                migrations.DeleteModel(name='SensitiveTerm'),
                migrations.DeleteModel(name='Template'),
            ],
            database_operations=[],
        ),
        migrations.RunPython(relabel, relabel_back),
    ]
