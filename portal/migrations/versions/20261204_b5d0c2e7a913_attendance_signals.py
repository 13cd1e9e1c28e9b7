"""attendance signals: platform participant ids, no-show and short-stay statuses

Revision ID: b5d0c2e7a913
Revises: b7c2e91d4a03
Create Date: 2026-12-04 06:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b5d0c2e7a913'
down_revision = 'b7c2e91d4a03'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.add_column(sa.Column('participant_id', sa.String(length=120), nullable=True))
        batch_op.create_index(
            'ix_activities_event_id_participant_id', ['event_id', 'participant_id'], unique=False
        )

    # Existing triggers get the new settings empty: nothing changes for them.
    with op.batch_alter_table('trigger_actions', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('no_show_status', sa.String(length=40), nullable=False, server_default='')
        )
        batch_op.add_column(sa.Column('short_stay_minutes', sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column('short_stay_status', sa.String(length=40), nullable=False, server_default='')
        )


def downgrade():
    with op.batch_alter_table('trigger_actions', schema=None) as batch_op:
        batch_op.drop_column('short_stay_status')
        batch_op.drop_column('short_stay_minutes')
        batch_op.drop_column('no_show_status')

    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.drop_index('ix_activities_event_id_participant_id')
        batch_op.drop_column('participant_id')
