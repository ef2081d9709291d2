"""The CLI's paths into a deployed stack's AWS account: sessions and errors (``aws``), ECS reads and waits
(``ecs``), logs, status, rollback and pause/resume (``scaling``)."""
