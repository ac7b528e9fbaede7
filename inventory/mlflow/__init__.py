"""Reading an MLflow tracking server: ``client`` speaks its REST API, ``mapping`` turns its answers into portal data.

Neither module touches the database or imports the ``mlflow`` package (a development dependency only): the
portal talks to MLflow over HTTP with the standard library, read-only.
"""
