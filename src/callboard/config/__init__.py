"""Configuration: process settings, and the center described as code in one YAML file.

`settings` (environment), `yaml_source` (YAML with positions), `center` (load and check a center file),
`plan` (diff two centers), `dump` (write a center back as YAML).
"""
