[Package]
Name=CLP0250101
