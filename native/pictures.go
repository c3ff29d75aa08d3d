package main

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/mnistzip/mnistzip/codec/atomicfile"
	"github.com/mnistzip/mnistzip/graphs/calibrate"
	"github.com/mnistzip/mnistzip/graphs/training"
)

// digitRows draws rows of 28×28 digits (values in [0, 1], white on black like MNIST) at scale×,
// with a 2-pixel gap between digits and a 6-pixel gap between rows.
func digitRows(rows [][][]float32, scale int) *image.Gray {
	cols := 0
	for _, r := range rows {
		cols = max(cols, len(r))
	}
	cell := 28*scale + 2
	img := image.NewGray(image.Rect(0, 0, cols*cell+2, len(rows)*(cell+4)+2))
	for i := range img.Pix {
		img.Pix[i] = 60 // dark grey background separates digits
	}
	for ri, row := range rows {
		for ci, digit := range row {
			x0, y0 := 2+ci*cell, 2+ri*(cell+4)
			for p, v := range digit {
				g := uint8(math.Round(255 * math.Min(1, math.Max(0, float64(v)))))
				for dy := range scale {
					for dx := range scale {
						img.SetGray(x0+(p%28)*scale+dx, y0+(p/28)*scale+dy, color.Gray{Y: g})
					}
				}
			}
		}
	}
	return img
}

// writePNG writes img atomically (see codec/atomicfile).
func writePNG(path string, img image.Image) error {
	return atomicfile.WriteFile(path, func(w io.Writer) error { return png.Encode(w, img) },
		atomicfile.Overwrite(true), atomicfile.Perm(0o644))
}

// digitColors are ten distinguishable colours (Tableau 10) for the classes 0–9.
var digitColors = []color.RGBA{
	{31, 119, 180, 255}, {255, 127, 14, 255}, {44, 160, 44, 255}, {214, 39, 40, 255}, {148, 103, 189, 255},
	{140, 86, 75, 255}, {227, 119, 194, 255}, {127, 127, 127, 255}, {188, 189, 34, 255}, {23, 190, 207, 255},
}

// latentScatter plots 2-D points coloured by label.
func latentScatter(path string, points []float32, labels []int32) error {
	p := plot.New()
	p.Title.Text = "VAE latent means of the test set"
	p.X.Label.Text, p.Y.Label.Text = "z₁", "z₂"
	for class := range 10 {
		var xys plotter.XYs
		for i, l := range labels {
			if int(l) == class {
				xys = append(xys, plotter.XY{X: float64(points[2*i]), Y: float64(points[2*i+1])})
			}
		}
		s, err := plotter.NewScatter(xys)
		if err != nil {
			return err
		}
		s.GlyphStyle.Color = digitColors[class]
		s.GlyphStyle.Radius = vg.Points(1.2)
		s.GlyphStyle.Shape = draw.CircleGlyph{}
		p.Add(s)
		p.Legend.Add(fmt.Sprint(class), s)
	}
	p.Legend.Top = true
	return savePlot(p, path, 7*vg.Inch, 6*vg.Inch)
}

// lossCurves plots the training and validation loss per epoch.
func lossCurves(path, title string, history []training.EpochStats) error {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text, p.Y.Label.Text = "epoch", "loss"
	var tr, va plotter.XYs
	for _, h := range history {
		tr = append(tr, plotter.XY{X: float64(h.Epoch), Y: h.TrainLoss})
		if h.ValLoss != 0 {
			va = append(va, plotter.XY{X: float64(h.Epoch), Y: h.ValLoss})
		}
	}
	for i, series := range []struct {
		name string
		xys  plotter.XYs
	}{{"training", tr}, {"validation", va}} {
		if len(series.xys) == 0 {
			continue
		}
		l, pts, err := plotter.NewLinePoints(series.xys)
		if err != nil {
			return err
		}
		l.Color, pts.Color = digitColors[i], digitColors[i]
		p.Add(l, pts)
		p.Legend.Add(series.name, l)
	}
	p.Legend.Top = true
	return savePlot(p, path, 6*vg.Inch, 4*vg.Inch)
}

// savePlot writes p as a PNG picture atomically.
func savePlot(p *plot.Plot, path string, w, h vg.Length) error {
	picture, err := p.WriterTo(w, h, "png")
	if err != nil {
		return fmt.Errorf("draw %s: %w", path, err)
	}
	return atomicfile.WriteFile(path, func(w io.Writer) error { _, err := picture.WriteTo(w); return err },
		atomicfile.Overwrite(true), atomicfile.Perm(0o644))
}

// reliabilityDiagram draws accuracy per confidence bin next to the diagonal of perfect calibration.
func reliabilityDiagram(path, title string, r calibrate.Report) error {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text, p.Y.Label.Text = "confidence", "accuracy"
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1
	var acc, gap plotter.XYs
	for _, b := range r.Bins {
		if b.Count == 0 {
			continue
		}
		mid := (b.Lower + b.Upper) / 2
		acc = append(acc, plotter.XY{X: mid, Y: b.Accuracy})
		gap = append(gap, plotter.XY{X: mid, Y: b.MeanConfidence})
	}
	diag, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 1}})
	if err != nil {
		return err
	}
	diag.Dashes = []vg.Length{vg.Points(4), vg.Points(4)}
	accLine, accPts, err := plotter.NewLinePoints(acc)
	if err != nil {
		return err
	}
	accLine.Color, accPts.Color = digitColors[0], digitColors[0]
	confPts, err := plotter.NewScatter(gap)
	if err != nil {
		return err
	}
	confPts.Color = digitColors[1]
	p.Add(diag, accLine, accPts, confPts)
	p.Legend.Add("perfect calibration", diag)
	p.Legend.Add("accuracy per bin", accLine)
	p.Legend.Add("mean confidence per bin", confPts)
	p.Legend.Top, p.Legend.Left = true, true
	return savePlot(p, path, 5*vg.Inch, 5*vg.Inch)
}
