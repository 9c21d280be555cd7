package main

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/transform"
)

// header is the file's first line: ten columns, as a German ERP exports them.
const header = "Kundennr;Vorname;Nachname;Straße;PLZ;Ort;E-Mail;Telefon;Aktiv;Geändert"

var (
	firstNames = []string{"Søren", "Jørgen", "Åse", "Mette", "Bjørn", "Ærle", "Jürgen", "Günther", "Käthe", "Björn",
		"Uwe", "Dörte", "Sönke", "Malte", "Anneliese", "Frauke", "Kirstine", "Ida", "Østen", "Brønnum"}
	lastNames = []string{"Østergård", "Nørgaard", "Ærø", "Sørensen", "Mølgaard", "Jensen", "Weiß", "Müller", "Schäfer",
		"Größ", "Köhler", "Bäcker", "Fußmann", "Grün", "Løvstrøm", "Hansen", "Lüdemann", "Strauß", "Dahl", "Bräuer"}
	streets = []string{"Hauptstraße", "Gärtnerweg", "Søndergade", "Østerbrogade", "Große Straße", "Brückenstraße",
		"Åboulevard", "Kærvej", "Mühlenstraße", "Fußgängerzone"}
	cities = []string{"Århus", "København", "Ålborg", "Næstved", "Køln", "München", "Düsseldorf", "Lübeck", "Flensburg", "Göttingen"}
)

// generate writes rows customers as semicolon-separated Windows-1252 text.
// With changeEvery > 0, every changeEvery-th row gets a new phone number,
// so the file differs from the unchanged one in exactly those rows.
func generate(path string, rows, changeEvery int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	enc := transform.NewWriter(f, charmap.Windows1252.NewEncoder())
	w := bufio.NewWriterSize(enc, 1<<20)
	fmt.Fprintln(w, header)
	rnd := rand.New(rand.NewPCG(1, 2)) // the same customers in every file
	for i := range rows {
		first, last := firstNames[rnd.IntN(len(firstNames))], lastNames[rnd.IntN(len(lastNames))]
		phone := 10_000_000 + rnd.IntN(89_999_999)
		if changeEvery > 0 && i%changeEvery == 0 {
			phone++
		}
		active := "ja"
		if rnd.IntN(10) == 0 {
			active = "nein"
		}
		fmt.Fprintf(w, "K%07d;%s;%s;%s %d;%05d;%s;kunde%d@example.com;+49 %d;%s;%02d.%02d.2024 %02d:%02d\n",
			i, first, last, streets[rnd.IntN(len(streets))], 1+rnd.IntN(200), 1000+rnd.IntN(98_999),
			cities[rnd.IntN(len(cities))], i, phone, active, 1+rnd.IntN(28), 1+rnd.IntN(12), rnd.IntN(24), rnd.IntN(60))
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := enc.Close(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
