"""The build pipeline of one API (``pipeline.BuildPipeline``) and its pure helpers: the CodeBuild buildspec
(``buildspec``), the managed-build source zip (``source_bundle``) and the pipeline's access documents (``access``).

Nothing is imported here, so the pure helpers load without Pulumi (components/prepare.py uses ``buildspec``).
"""
