package zoo

// registry is every model, in the order the CLI lists them: one line per model.
var registry = []*Model{
	aeModel,
	daeModel,
	sparseModel,
	vaeModel,
	subpixelModel,
	denseModel,
	cnnModel,
	densenetModel,
	capsnetModel,
}
